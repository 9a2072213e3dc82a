module github.com/pantau-id/pantau

go 1.26
