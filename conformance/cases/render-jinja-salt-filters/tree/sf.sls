{% set items = ['b', 'a', 'b', 'c'] %}
filters:
  test.show_notification:
    - text: |
        to_bool: {{ 'yes' | to_bool }} {{ 'no' | to_bool }} {{ 1 | to_bool }} {{ 'off' | to_bool }}
        regex_replace: {{ 'abc-123-def' | regex_replace('[0-9]+', 'N') }}
        regex_search: {{ 'release 8.4.1' | regex_search('(\d+)\.(\d+)') }}
        regex_match: {{ 'abc123' | regex_match('([a-z]+)(\d+)') }}
        yaml_encode: {{ 'a: b' | yaml_encode }} {{ True | yaml_encode }}
        yaml_squote: {{ "it's" | yaml_squote }}
        sequence: {{ 'single' | sequence }}
        path_join: {{ '/etc' | path_join('salt', 'minion') }}
        md5: {{ 'halite' | md5 }}
        sha256: {{ 'halite' | sha256 }}
        is_ip: {{ '10.0.0.1' | is_ip }} {{ 'nope' | is_ip }}
        unique: {{ items | unique }}
        min_max: {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }}
        quote: {{ 'a b' | quote }}
        to_num: {{ '42' | to_num + 1 }}
