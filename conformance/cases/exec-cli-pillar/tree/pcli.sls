show_pillar:
  test.show_notification:
    - text: "{{ pillar.color }} {{ pillar.nested.k }} {{ pillar.nested.keep }}"
