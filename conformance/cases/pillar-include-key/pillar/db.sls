host: db1
port: 5432
