templated_contents:
  file.managed:
    - name: @ROOT@/work/inline.txt
    - contents: "{% raw %}hello {{ who }} {{ extra }}{% endraw %}"
    - template: jinja
    - defaults:
        who: default
        extra: d
    - context:
        who: context

fallback_source:
  file.managed:
    - name: @ROOT@/work/fallback.txt
    - source:
      - salt://files/missing.txt
      - salt://files/present.txt

tpl_from_file:
  file.managed:
    - name: @ROOT@/work/tpl.txt
    - source: salt://files/tpl.j2
    - template: jinja
    - context:
        items: [a, b]
        name: ctx

show:
  cmd.run:
    - name: cat @ROOT@/work/inline.txt @ROOT@/work/fallback.txt @ROOT@/work/tpl.txt
    - require:
      - file: templated_contents
      - file: fallback_source
      - file: tpl_from_file

sls_not_in_file_context:
  file.managed:
    - name: @ROOT@/work/uses_sls.txt
    - source: salt://files/uses_sls.j2
    - template: jinja
