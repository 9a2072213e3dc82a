// Package demo makes synthetic source data for `pantau demo`: deterministic,
// shaped like the real programmes, for every kecamatan.
//
// Generate writes an SQLite database with the schema of
// examples/dinsos-schema.sql (the very schema the example spec's queries
// read) and fills it for every kecamatan of a region hierarchy, from 1
// January of the year before Options.Now up to Now's date in Asia/Jakarta.
// The previous year is there so that stock KPIs have their level on 1
// January and history has a year to show. Targets returns annual targets for
// Now's year that go with the data.
//
// # Determinism
//
// The same Options give the same database, byte for byte. Every random
// choice comes from a math/rand/v2 PCG stream keyed by Options.Seed, a region
// code and what is being drawn (a kecamatan's Sembako in one month, a
// kabupaten's usual distribution rate, …), never from a shared one, and
// nothing is written in map order. So a region's data does not depend on how
// many other regions there are, and a month's data does not depend on the
// months after it: a later Now adds days, pays what was still unpaid and
// closes e-Warong whose closing day has come. Row ids are built from the
// kecamatan code for the same reason: 32.16.06 → 321606 followed by a
// sequence number for e-Warong, KUBE and graduations, and yyyymm, 321606 and
// the household's number for the monthly household rows.
//
// Two things are chosen for the hierarchy as a whole: DKI Jakarta's
// e-Warong and KUBE Jasa are scheduled for the province and handed out to
// its kecamatan, and the kabupaten that lag or stall are those whose keys
// rank first among the kabupaten/kota of the hierarchy, so a hierarchy cut
// down to one province still has a laggard and a stalled kabupaten of its
// own. When a stall begins depends on Now (two to four months before it).
//
// # Shape
//
// Household tables scale with Options.Scale; the counts of e-Warong and KUBE
// are real-world sized and do not.
//
//   - sembako_alokasi: about 2,580 households per kecamatan receive Sembako
//     (18.8 M KPM over 7,285 kecamatan); the demo keeps 2,580 × Scale × 0.005
//     of them, so Scale 1 gives about 13 households per kecamatan (6 to 26,
//     kecamatan differ in size), about 95,000 rows a month nationally and
//     about 1.1 M a year, or 2.2 M for the 23 months from January of last
//     year to a November Now. One row per household per month; tanggal_salur
//     falls on the kecamatan's 3 to 5 batch days of the month, spread evenly
//     so the rate builds up through the month. Most kabupaten distribute 85
//     to 99 % of a month; about 1.5 % of the kabupaten/kota lag at 60 to
//     80 %; one or two (one in a small hierarchy) stop distributing
//     altogether two to four months before Now and stay at 0 %, so alerts
//     have something to find. In the current month only days up to Now's
//     date are distributed.
//   - pkh_tahap: about 1,373 PKH households per kecamatan (10 M over 7,285),
//     also × Scale × 0.005 (about 7 at Scale 1), paid in four stages that
//     start in January, April, July and October; 90 to 99 % are paid, on two
//     or three days of the stage's first month (70 to 85 % in about 1 % of
//     the kabupaten/kota). A stage in the current month is paid up to Now's
//     date.
//   - pkh_graduasi: 5 to 12 % of a kabupaten's PKH households graduate in a
//     year, spread over the months. Kota Bekasi (32.75) follows its reported
//     figures: 40,618 KPM over 12 kecamatan of which 4,618 are ready to
//     graduate, so about 23 graduations a year at Scale 1.
//   - ewarong: a kecamatan of a kabupaten has 0 to 3 active e-Warong on 1
//     January of last year, one of a kota 1 to 4; about 0.45 (kabupaten) or
//     0.9 (kota) open per kecamatan per year and a few close. A kecamatan
//     that starts with none has one that closed last year, so every
//     kecamatan has e-Warong rows. DKI Jakarta (31) follows its 2017 story:
//     40 active on 1 January of Now's year and 27 opening through the year,
//     slightly behind the pace to its target of 70.
//   - kube: KUBE groups form through the year, jenis jasa, perdagangan or
//     produksi, 0.5 to 1.5 of each per kecamatan per year (more jasa and
//     perdagangan in a kota). DKI Jakarta forms about 90 % of a 71-a-year
//     KUBE Jasa plan (about 5.3 a month), a little behind the pace of its
//     target.
//
// Because households are scaled and e-Warong are not, KPM per e-Warong
// comes out at Scale × 0.005 of its real value: a few KPM per e-Warong at
// Scale 1, far below the example spec's ceiling of 400.
//
// # Size
//
// At Scale 1 with a November Now the database holds about 2.6 M rows (2.2 M
// of them Sembako allocations) in about 300 MB, and Generate takes 6 to 9
// seconds on two cores, nearly all of it inside SQLite. Size and time grow
// linearly with Scale and with the months since January of last year; Scale
// 0.05 gives one household per kecamatan (about 230,000 rows, a second or
// two) and suits tests.
package demo
