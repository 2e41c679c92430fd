from_dev:
  test.show_notification:
    - text: "dev copy, saltenv={{ saltenv }}"
