-- Source schema the KPI queries in dinsos.yaml are written against: a
-- simplified Dinas Sosial database of e-Warong, KUBE, Sembako (BPNT)
-- allocations, PKH stages and PKH graduations.
--
-- Portable DDL: it loads unchanged into PostgreSQL, MariaDB/MySQL and SQLite,
-- so it uses only plain types (VARCHAR, INTEGER, BIGINT, DATE). In SQLite
-- dates are stored as 'YYYY-MM-DD' text, which compares correctly with the
-- 'YYYY-MM-DD' strings pantau binds to :period_start, :period_end and
-- :year_start.
--
-- kode_kecamatan holds the Kepmendagri dotted code of the kecamatan
-- (district), like 32.16.06 for Tambun Selatan, Kabupaten Bekasi.

-- e-Warong: electronic village shops that distribute Sembako aid. One is
-- active on day d when tanggal_aktif < d and it had not closed by d
-- (tanggal_tutup IS NULL OR tanggal_tutup >= d). status is the state today
-- ('aktif' or 'tutup'); the dates are what make past months reproducible.
CREATE TABLE ewarong (
    id             BIGINT       NOT NULL PRIMARY KEY,
    kode_kecamatan VARCHAR(13)  NOT NULL,
    nama           VARCHAR(200) NOT NULL,
    status         VARCHAR(20)  NOT NULL,
    tanggal_aktif  DATE         NOT NULL,
    tanggal_tutup  DATE         NULL
);
CREATE INDEX ewarong_kecamatan ON ewarong (kode_kecamatan);

-- KUBE (Kelompok Usaha Bersama): joint-business groups of aid recipients.
-- jenis is 'jasa' (services), 'perdagangan' (trade) or 'produksi'.
CREATE TABLE kube (
    id             BIGINT       NOT NULL PRIMARY KEY,
    kode_kecamatan VARCHAR(13)  NOT NULL,
    nama           VARCHAR(200) NOT NULL,
    jenis          VARCHAR(20)  NOT NULL,
    tanggal_bentuk DATE         NOT NULL
);
CREATE INDEX kube_bentuk ON kube (tanggal_bentuk);

-- Sembako (BPNT) allocations: one row per household (no_kk, the family card
-- number) per month. periode is the first day of the month allocated;
-- tanggal_salur is the day the household received it (NULL until then).
CREATE TABLE sembako_alokasi (
    id             BIGINT      NOT NULL PRIMARY KEY,
    no_kk          VARCHAR(16) NOT NULL,
    kode_kecamatan VARCHAR(13) NOT NULL,
    periode        DATE        NOT NULL,
    nominal        BIGINT      NOT NULL,
    tanggal_salur  DATE        NULL
);
CREATE INDEX sembako_alokasi_periode ON sembako_alokasi (periode, kode_kecamatan);

-- PKH (Program Keluarga Harapan) disbursement, paid in four stages a year.
-- periode is the first day of the stage's first month (tahap 1: January,
-- 2: April, 3: July, 4: October); tanggal_salur is NULL until paid.
CREATE TABLE pkh_tahap (
    id             BIGINT      NOT NULL PRIMARY KEY,
    no_kk          VARCHAR(16) NOT NULL,
    kode_kecamatan VARCHAR(13) NOT NULL,
    tahun          INTEGER     NOT NULL,
    tahap          INTEGER     NOT NULL,
    periode        DATE        NOT NULL,
    nominal        BIGINT      NOT NULL,
    tanggal_salur  DATE        NULL
);
CREATE INDEX pkh_tahap_periode ON pkh_tahap (periode, kode_kecamatan);

-- PKH graduations: households that left the programme because they no
-- longer need it.
CREATE TABLE pkh_graduasi (
    id               BIGINT      NOT NULL PRIMARY KEY,
    no_kk            VARCHAR(16) NOT NULL,
    kode_kecamatan   VARCHAR(13) NOT NULL,
    tanggal_graduasi DATE        NOT NULL
);
CREATE INDEX pkh_graduasi_tanggal ON pkh_graduasi (tanggal_graduasi);
