package demotry

import (
	"database/sql"
	"testing"
)

func TestStat(t *testing.T) {
	db, err := sql.Open("sqlite", "/tmp/demotry/demo.db")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		var s int64
		rows.Scan(&n, &s)
		t.Log(n, s)
	}
	var row string
	db.QueryRow("SELECT id||'|'||no_kk||'|'||kode_kecamatan||'|'||periode||'|'||nominal||'|'||coalesce(tanggal_salur,'NULL') FROM sembako_alokasi LIMIT 1 OFFSET 1000000").Scan(&row)
	t.Log(row)
}
