from_base:
  test.show_notification:
    - text: base copy
