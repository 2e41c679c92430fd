include:
  - shared
  - db:
      key: database
main_value: 1
shared_value: from main
