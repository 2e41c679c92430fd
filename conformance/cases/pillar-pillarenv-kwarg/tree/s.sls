show:
  test.show_notification:
    - text: "{{ pillar.get('where', 'none') }}"
