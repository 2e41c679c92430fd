use super::*;
use halite_core::Value;

/// Differential helper: `HALITE_YAML_CASES=file cargo test -p halite-render yaml_diff -- --ignored --nocapture`
/// prints one line per case (`repr` or `ERR message`), cases separated by `\n====\n`.
#[test]
#[ignore]
fn yaml_diff() {
    let Ok(path) = std::env::var("HALITE_YAML_CASES") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    for case in text.split("\n====\n") {
        match load(case) {
            Ok(v) => println!("OK {:?}", v.py_repr()),
            Err(e) => println!("ERR {:?}", e.message),
        }
    }
}

/// (input, loads?, Python's `repr(result)` or `str(exc)`) measured with Salt 3008.5's
/// `salt.utils.yaml.safe_load`.
const SALT_CASES: &[(&str, bool, &str)] = &[
    ("a: ! 123", true, "{'a': 123}"),
    ("a: ! \"123\"", true, "{'a': 123}"),
    ("a: !!str 123", true, "{'a': '123'}"),
    ("a: !!int \"0644\"", true, "{'a': 644}"),
    ("a: !!float 1", true, "{'a': 1.0}"),
    ("a: !foo bar", false, "could not determine a constructor for the tag '!foo'\n  in \"<unicode string>\", line 1, column 4"),
    ("a: =", false, "could not determine a constructor for the tag 'tag:yaml.org,2002:value'\n  in \"<unicode string>\", line 1, column 4"),
    ("=: 1", true, "{'=': 1}"),
    ("a: 0_", false, "string index out of range"),
    ("a: -0644", true, "{'a': -420}"),
    ("a: 1:20.5", true, "{'a': 80.5}"),
    ("a: 1.e5", true, "{'a': '1.e5'}"),
    ("a: !!binary aGVsbG8", true, "{'a': b'hello'}"),
    ("a: !!timestamp 2020-01-01", true, "{'a': '2020-01-01'}"),
    ("a: *x", false, "found undefined alias\n  in \"<unicode string>\", line 1, column 4"),
    ("a: &x 1\nb: &x 2", false, "found duplicate anchor; first occurrence\n  in \"<unicode string>\", line 1, column 4\nsecond occurrence\n  in \"<unicode string>\", line 2, column 4"),
    ("a: 1\na: 2", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID 'a'\n  in \"<unicode string>\", line 2, column 1"),
    ("b:\n  c: 1\n  c: 2", false, "while constructing a mapping\n  in \"<unicode string>\", line 2, column 3\nfound conflicting ID 'c'\n  in \"<unicode string>\", line 3, column 3"),
    ("a: &a {x: 1, y: 2}\nb:\n  <<: *a\n  x: 3", true, "{'a': {'x': 1, 'y': 2}, 'b': {'y': 2, 'x': 3}}"),
    ("---\na: 1\n---\nb: 2", false, "expected a single document in the stream\n  in \"<unicode string>\", line 2, column 1\nbut found another document\n  in \"<unicode string>\", line 3, column 1"),
    ("", true, "None"),
    ("# comment only", true, "None"),
    ("---", true, "None"),
    ("a: [1, 2]\n? [1, 2]\n: 3", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound unacceptable key [ScalarNode(tag='tag:yaml.org,2002:int', value='1'), ScalarNode(tag='tag:yaml.org,2002:int', value='2')]\n  in \"<unicode string>\", line 2, column 3"),
    ("a: .5", true, "{'a': 0.5}"),
    ("a: -.inf", true, "{'a': -inf}"),
    ("a: .NaN", true, "{'a': nan}"),
    ("a: 1.5e+3", true, "{'a': 1500.0}"),
    ("a: \"\\x01\"", true, "{'a': '\\x01'}"),
    ("a: ", true, "{'a': None}"),
    ("{1: a, true: b, null: c, 1.5: d}", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID 'True'\n  in \"<unicode string>\", line 1, column 8"),
    ("a: 2020-01-01 10:00:00", true, "{'a': '2020-01-01 10:00:00'}"),
    ("a: 0b1_01", true, "{'a': 5}"),
    ("a: +12", true, "{'a': 12}"),
    ("a: 0o17", true, "{'a': '0o17'}"),
    ("a: 1_000.5_0", true, "{'a': 1000.5}"),
    ("a: <<", false, "could not determine a constructor for the tag 'tag:yaml.org,2002:merge'\n  in \"<unicode string>\", line 1, column 4"),
    ("<<: {a: 1}\nb: 2", true, "{'a': 1, 'b': 2}"),
    ("<<: [{a: 1}, {a: 2, c: 3}]", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID 'a'\n  in \"<unicode string>\", line 1, column 7"),
    ("<<: 1\n", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nexpected a mapping or list of mappings for merging, but found scalar\n  in \"<unicode string>\", line 1, column 5"),
    ("{%- set cfg = {'port': 80, 'host': 'web'} %}\ngood_state:\n  test.nop\n\nbad_state:\n  test.show_notification:\n    - text: \"cfg={{ cfg | tojson }}\"\n", false, "while scanning for the next token\nfound character that cannot start any token\n  in \"<unicode string>\", line 1, column 2"),
    ("ok:\n  test.nop\nbroken: [unclosed\n", false, "while parsing a flow sequence\n  in \"<unicode string>\", line 3, column 9\ndid not find expected ',' or ']'\n  in \"<unicode string>\", line 4, column 1"),
    ("config_file:\n  test.nop:\n    - name: first\n\nother:\n  test.nop\n\nconfig_file:\n  test.nop:\n    - name: second\n", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID 'config_file'\n  in \"<unicode string>\", line 8, column 1"),
    ("db_install:\n  test.succeed_with_changes\n\ndb_config:\n  test.succeed_without_changes\n", true, "{'db_install': 'test.succeed_with_changes', 'db_config': 'test.succeed_without_changes'}"),
    ("base:\n  '*':\n    - web\n    - db\n", true, "{'base': {'*': ['web', 'db']}}"),
    ("web_app:\n  test.show_notification:\n    - text: web after db\n    - require:\n      - sls: db\n\nweb_reload:\n  test.succeed_without_changes:\n    - watch:\n      - sls: db\n", true, "{'web_app': {'test.show_notification': [{'text': 'web after db'}, {'require': [{'sls': 'db'}]}]}, 'web_reload': {'test.succeed_without_changes': [{'watch': [{'sls': 'db'}]}]}}"),
    ("before:\n  test.nop\n\nno_such_module:\n  nosuchmod.present:\n    - name: thing\n\nno_such_function:\n  test.no_such_function:\n    - name: thing\n\nafter:\n  test.nop\n", true, "{'before': 'test.nop', 'no_such_module': {'nosuchmod.present': [{'name': 'thing'}]}, 'no_such_function': {'test.no_such_function': [{'name': 'thing'}]}, 'after': 'test.nop'}"),
    ("fine:\n  test.nop\n\nboth:\n  test.nop: []\n  test.succeed_without_changes: []\n", true, "{'fine': 'test.nop', 'both': {'test.nop': [], 'test.succeed_without_changes': []}}"),
    ("base:\n  '*':\n    - svc\n    - base_os\n", true, "{'base': {'*': ['svc', 'base_os']}}"),
    ("base_os:\n  test.nop\n\nextend:\n  svc_conf:\n    file:\n      - mode: '0600'\n", true, "{'base_os': 'test.nop', 'extend': {'svc_conf': {'file': [{'mode': '0600'}]}}}"),
    ("target:\n  test.nop\n\nbad:\n  test.nop:\n    - require:\n        test: target\n", true, "{'target': 'test.nop', 'bad': {'test.nop': [{'require': {'test': 'target'}}]}}"),
    ("dirs:\n  file.directory:\n    - names:\n      - @ROOT@/work/a\n      - @ROOT@/work/b:\n        - mode: '0700'\n      - @ROOT@/work/c\n    - mode: '0755'\n\nafter_dirs:\n  test.show_notification:\n    - text: all dirs done\n    - require:\n      - file: dirs\n", false, "while scanning for the next token\nfound character that cannot start any token\n  in \"<unicode string>\", line 4, column 9"),
    ("unit_file:\n  file.managed:\n    - name: @ROOT@/work/app.service\n    - contents: |\n        [Service]\n        ExecStart=/bin/true\n\ndaemon_reload:\n  cmd.wait:\n    - name: echo daemon-reload\n    - watch:\n      - file: unit_file\n\nno_watch_wait:\n  cmd.wait:\n    - name: echo never without watch\n\nrestart_onchanges:\n  cmd.run:\n    - name: echo restart\n    - onchanges:\n      - file: unit_file\n", false, "while scanning for the next token\nfound character that cannot start any token\n  in \"<unicode string>\", line 3, column 13"),
    ("deep_dir:\n  file.directory:\n    - name: @ROOT@/work/a/b/c\n    - makedirs: True\n    - mode: '0750'\n\nexisting_mode:\n  file.directory:\n    - name: @ROOT@/work/existing\n    - mode: '0700'\n\nkept_file:\n  file.managed:\n    - name: @ROOT@/work/cleanme/keep.txt\n    - contents: k\n\nclean_dir:\n  file.directory:\n    - name: @ROOT@/work/cleanme\n    - clean: True\n    - require:\n      - file: kept_file\n", false, "while scanning for the next token\nfound character that cannot start any token\n  in \"<unicode string>\", line 3, column 13"),
    ("ok_state:\n  test.succeed_without_changes\n\nneeds_ghost:\n  test.succeed_with_changes:\n    - require:\n      - test: ghost\n      - ok_state\n\nneeds_ghost_sls:\n  test.nop:\n    - require:\n      - sls: ghost_sls\n\na:\n  test.nop:\n    - require:\n      - test: b\n\nb:\n  test.nop:\n    - require:\n      - test: a\n", true, "{'ok_state': 'test.succeed_without_changes', 'needs_ghost': {'test.succeed_with_changes': [{'require': [{'test': 'ghost'}, 'ok_state']}]}, 'needs_ghost_sls': {'test.nop': [{'require': [{'sls': 'ghost_sls'}]}]}, 'a': {'test.nop': [{'require': [{'test': 'b'}]}]}, 'b': {'test.nop': [{'require': [{'test': 'a'}]}]}}"),
    ("fine:\n  test.nop\n", true, "{'fine': 'test.nop'}"),
    ("base:\n  '*':\n    - app\n", true, "{'base': {'*': ['app']}}"),
    ("common_base:\n  test.succeed_without_changes\n\ncommon_unwanted:\n  test.fail_without_changes\n", true, "{'common_base': 'test.succeed_without_changes', 'common_unwanted': 'test.fail_without_changes'}"),
    ("legacy_state:\n  test.fail_with_changes\n", true, "{'legacy_state': 'test.fail_with_changes'}"),
    ("plain_one:\n  test.nop\n\nnumbered_ten:\n  test.nop:\n    - order: 10\n\nat_the_end:\n  test.nop:\n    - order: last\n\nplain_two:\n  test.nop\n\nnumbered_one:\n  test.nop:\n    - order: 1\n\nat_the_start:\n  test.nop:\n    - order: first\n\nneeds_plain_two:\n  test.nop:\n    - order: 2\n    - require:\n      - test: plain_two\n", true, "{'plain_one': 'test.nop', 'numbered_ten': {'test.nop': [{'order': 10}]}, 'at_the_end': {'test.nop': [{'order': 'last'}]}, 'plain_two': 'test.nop', 'numbered_one': {'test.nop': [{'order': 1}]}, 'at_the_start': {'test.nop': [{'order': 'first'}]}, 'needs_plain_two': {'test.nop': [{'order': 2}, {'require': [{'test': 'plain_two'}]}]}}"),
    ("clean:\n  test.nop\n\nwould_change:\n  file.managed:\n    - name: @ROOT@/work/conf.txt\n    - contents: v2\n\nwould_run:\n  cmd.run:\n    - name: echo hi\n\nalready_fine:\n  file.directory:\n    - name: @ROOT@/work\n", false, "while scanning for the next token\nfound character that cannot start any token\n  in \"<unicode string>\", line 6, column 13"),
    ("first_ok:\n  test.succeed_with_changes\n\nsoft_failure:\n  test.fail_without_changes:\n    - comment: soft failure, run continues\n\nhard_failure:\n  test.fail_with_changes:\n    - comment: hard failure, run stops\n    - failhard: True\n\nnever_runs:\n  test.nop\n\nnever_runs_either:\n  cmd.run:\n    - name: echo never\n", true, "{'first_ok': 'test.succeed_with_changes', 'soft_failure': {'test.fail_without_changes': [{'comment': 'soft failure, run continues'}]}, 'hard_failure': {'test.fail_with_changes': [{'comment': 'hard failure, run stops'}, {'failhard': True}]}, 'never_runs': 'test.nop', 'never_runs_either': {'cmd.run': [{'name': 'echo never'}]}}"),
    ("base:\n  'workers':\n    - match: nodegroup\n    - ng_workers\n  'N@named':\n    - match: compound\n    - ng_named\n  'others':\n    - match: nodegroup\n    - ng_others_no_match\n  'N@nested':\n    - match: compound\n    - ng_nested\n  'N@others or G@roles:worker':\n    - match: compound\n    - ng_or\n", true, "{'base': {'workers': [{'match': 'nodegroup'}, 'ng_workers'], 'N@named': [{'match': 'compound'}, 'ng_named'], 'others': [{'match': 'nodegroup'}, 'ng_others_no_match'], 'N@nested': [{'match': 'compound'}, 'ng_nested'], 'N@others or G@roles:worker': [{'match': 'compound'}, 'ng_or']}}"),
    ("remove_file:\n  file.absent:\n    - name: @ROOT@/work/file.txt\n\nremove_tree:\n  file.absent:\n    - name: @ROOT@/work/tree\n\nremove_missing:\n  file.absent:\n    - name: @ROOT@/work/never-existed\n", false, "while scanning for the next token\nfound character that cannot start any token\n  in \"<unicode string>\", line 3, column 13"),
    ("present:\n  test.nop\n", true, "{'present': 'test.nop'}"),
    ("link_file:\n  file.symlink:\n    - name: @ROOT@/work/current.conf\n    - target: @ROOT@/work/target.d/real.conf\n\nlink_dir_makedirs:\n  file.symlink:\n    - name: @ROOT@/work/links/deep/target\n    - target: @ROOT@/work/target.d\n    - makedirs: True\n", false, "while scanning for the next token\nfound character that cannot start any token\n  in \"<unicode string>\", line 3, column 13"),
    ("a: \"x", false, "while scanning a quoted scalar\n  in \"<unicode string>\", line 1, column 4\nfound unexpected end of stream\n  in \"<unicode string>\", line 1, column 6"),
    ("a: 'unterminated", false, "while scanning a quoted scalar\n  in \"<unicode string>\", line 1, column 4\nfound unexpected end of stream\n  in \"<unicode string>\", line 1, column 17"),
    ("a: [1, 2", false, "while parsing a flow sequence\n  in \"<unicode string>\", line 1, column 4\ndid not find expected ',' or ']'\n  in \"<unicode string>\", line 2, column 1"),
    ("a: {b: 1", false, "while parsing a flow mapping\n  in \"<unicode string>\", line 1, column 4\ndid not find expected ',' or '}'\n  in \"<unicode string>\", line 2, column 1"),
    ("a:\n  - b\n - c", false, "while parsing a block mapping\n  in \"<unicode string>\", line 1, column 1\ndid not find expected key\n  in \"<unicode string>\", line 3, column 2"),
    ("a: b: c", false, "mapping values are not allowed in this context\n  in \"<unicode string>\", line 1, column 5"),
    ("\ta: 1", false, "while scanning for the next token\nfound character that cannot start any token\n  in \"<unicode string>\", line 1, column 1"),
    ("a:\n\tb: 1", false, "while scanning for the next token\nfound character that cannot start any token\n  in \"<unicode string>\", line 2, column 1"),
    ("a: |\n  text\n bad", false, "while parsing a block mapping\n  in \"<unicode string>\", line 1, column 1\ndid not find expected key\n  in \"<unicode string>\", line 3, column 2"),
    ("- a\nb: 1", false, "while parsing a block collection\n  in \"<unicode string>\", line 1, column 1\ndid not find expected '-' indicator\n  in \"<unicode string>\", line 2, column 1"),
    ("a: 1\n b: 2", false, "mapping values are not allowed in this context\n  in \"<unicode string>\", line 2, column 3"),
    ("key: value # comment\nlist:\n  - one   # c\n  - \"two\"\n  - 'thr''ee'", true, "{'key': 'value', 'list': ['one', 'two', \"thr'ee\"]}"),
    ("a: \"tab\\there \\u00e9 \\x41 \\N \\_\"", true, "{'a': 'tab\\there é A \\x85 \\xa0'}"),
    ("a: >-\n  folded\n  more\n\n  para\nb: |+\n  keep\n\nc: x", true, "{'a': 'folded more\\npara', 'b': 'keep\\n\\n', 'c': 'x'}"),
    ("a: |2\n    indented", true, "{'a': '  indented'}"),
    ("a: plain\n  continued\n  lines", true, "{'a': 'plain continued lines'}"),
    ("? complex\n: value", true, "{'complex': 'value'}"),
    ("[1, 2, 3]", true, "[1, 2, 3]"),
    ("\"just a string\"", true, "'just a string'"),
    ("42", true, "42"),
    ("a: !!str", true, "{'a': ''}"),
    ("a: !!null ''", true, "{'a': None}"),
    ("a: !!bool \"yes\"", true, "{'a': True}"),
    ("a: !!int 0x_1", true, "{'a': 1}"),
    ("a: !!float .5", true, "{'a': 0.5}"),
    ("a: !!int abc", false, "invalid literal for int() with base 10: 'abc'"),
    ("a: !!float abc", false, "could not convert string to float: 'abc'"),
    ("a: !!bool maybe", false, "'maybe'"),
    ("a: !!seq {a: 1}", false, "expected a sequence node, but found mapping\n  in \"<unicode string>\", line 1, column 4"),
    ("a: !!map [1]", false, "expected a mapping node, but found sequence\n  in \"<unicode string>\", line 1, column 4"),
    ("a: !!str [1]", false, "expected a scalar node, but found sequence\n  in \"<unicode string>\", line 1, column 4"),
    ("%YAML 1.1\n---\na: 1", true, "{'a': 1}"),
    ("%TAG !e! tag:example.com,2000:\n---\na: !e!foo 1", false, "could not determine a constructor for the tag 'tag:example.com,2000:foo'\n  in \"<unicode string>\", line 3, column 4"),
    ("a: !<tag:yaml.org,2002:str> 5", true, "{'a': '5'}"),
    ("a: 1\n...", true, "{'a': 1}"),
    ("a: 1\n---", false, "expected a single document in the stream\n  in \"<unicode string>\", line 1, column 1\nbut found another document\n  in \"<unicode string>\", line 2, column 1"),
    ("a: -0", true, "{'a': 0}"),
    ("a: 0.0", true, "{'a': 0.0}"),
    ("a: -0.0", true, "{'a': -0.0}"),
    ("a: 1e+3", true, "{'a': '1e+3'}"),
    ("a: 1.0e+3", true, "{'a': 1000.0}"),
    ("a: 6.8523015e+5", true, "{'a': 685230.15}"),
    ("a: 685.230_15e+03", true, "{'a': 685230.15}"),
    ("a: 685_230.15", true, "{'a': 685230.15}"),
    ("a: 190:20:30.15", true, "{'a': 685230.15}"),
    ("a: 190:20:30", true, "{'a': 685230}"),
    ("a: 0b1010_0111_0100_1010_1110", true, "{'a': 685230}"),
    ("a: 02472256", true, "{'a': 2472256}"),
    ("a: 0x_0A_74_AE", true, "{'a': 685230}"),
    ("a: 685_230", true, "{'a': 685230}"),
    ("a: +685_230", true, "{'a': 685230}"),
    ("a: 1:60", true, "{'a': '1:60'}"),
    ("a: 1:5", true, "{'a': 65}"),
    ("a: 08", true, "{'a': '08'}"),
    ("a: 0.", true, "{'a': 0.0}"),
    ("a: .", true, "{'a': '.'}"),
    ("a: -", false, "block sequence entries are not allowed in this context\n  in \"<unicode string>\", line 1, column 4"),
    ("a: +", true, "{'a': '+'}"),
    ("a: 1__", true, "{'a': 1}"),
    ("a: 2001-12-14t21:59:43.10-05:00", true, "{'a': '2001-12-14t21:59:43.10-05:00'}"),
    ("a: 2001-12-14 21:59:43.10 -5", true, "{'a': '2001-12-14 21:59:43.10 -5'}"),
    ("a: 2001-12-14 21:59:43.10 ", true, "{'a': '2001-12-14 21:59:43.10'}"),
    ("a: 2002-1-1", true, "{'a': '2002-1-1'}"),
    ("a: 2002-1-1T1:00:00Z", true, "{'a': '2002-1-1T1:00:00Z'}"),
    ("a: NULL", true, "{'a': None}"),
    ("a: Null", true, "{'a': None}"),
    ("a: nULL", true, "{'a': 'nULL'}"),
    ("a: ON", true, "{'a': True}"),
    ("a: oN", true, "{'a': 'oN'}"),
    ("a: Off", true, "{'a': False}"),
    ("a: n", true, "{'a': 'n'}"),
    ("a: TRUE", true, "{'a': True}"),
    ("a: tRUE", true, "{'a': 'tRUE'}"),
    ("a: &anc [1, 2]\nb: *anc", true, "{'a': [1, 2], 'b': [1, 2]}"),
    ("base: &base\n  x: 1\n  y: 2\nc:\n  <<: [*base, {z: 3}]\n  x: 9", true, "{'base': {'x': 1, 'y': 2}, 'c': {'z': 3, 'y': 2, 'x': 9}}"),
    ("{a: 1, a: 2}", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID 'a'\n  in \"<unicode string>\", line 1, column 8"),
    ("a: {x: 1}\na: {x: 1}", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID 'a'\n  in \"<unicode string>\", line 2, column 1"),
    ("1: a\n1.0: b", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID '1.0'\n  in \"<unicode string>\", line 2, column 1"),
    ("0: a\nfalse: b", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID 'False'\n  in \"<unicode string>\", line 2, column 1"),
    ("null: a\n~: b", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID 'None'\n  in \"<unicode string>\", line 2, column 1"),
    ("a: b\nc: \"é\"", true, "{'a': 'b', 'c': 'é'}"),
    ("a: \"\\ud800\"", false, "while parsing a quoted scalar\n  in \"<unicode string>\", line 1, column 4\nfound invalid Unicode character escape code\n  in \"<unicode string>\", line 1, column 7"),
    ("\"a\": 1\n'a': 2", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID 'a'\n  in \"<unicode string>\", line 2, column 1"),
    ("\"1\": a\n1: b", true, "{'1': 'a', 1: 'b'}"),
    ("a: [a, b, ]", true, "{'a': ['a', 'b']}"),
    ("a: {a: 1, }", true, "{'a': {'a': 1}}"),
    ("- - 1\n  - 2\n- - 3", true, "[[1, 2], [3]]"),
    ("a: !!binary |\n  R0lGODlhDAAMAIQAAP//9/X17unp5WZmZgAAAOfn515eXvPz7Y6OjuDg4J+fn5", true, "{'a': b'GIF89a\\x0c\\x00\\x0c\\x00\\x84\\x00\\x00\\xff\\xff\\xf7\\xf5\\xf5\\xee\\xe9\\xe9\\xe5fff\\x00\\x00\\x00\\xe7\\xe7\\xe7^^^\\xf3\\xf3\\xed\\x8e\\x8e\\x8e\\xe0\\xe0\\xe0\\x9f\\x9f\\x9f'}"),
    ("a: @foo", false, "while scanning for the next token\nfound character that cannot start any token\n  in \"<unicode string>\", line 1, column 4"),
    ("a: `foo", false, "while scanning for the next token\nfound character that cannot start any token\n  in \"<unicode string>\", line 1, column 4"),
    ("a: %foo", false, "while scanning for the next token\nfound character that cannot start any token\n  in \"<unicode string>\", line 1, column 4"),
    ("a: *", false, "while scanning an alias\n  in \"<unicode string>\", line 1, column 4\ndid not find expected alphabetic or numeric character\n  in \"<unicode string>\", line 1, column 5"),
    ("a: &", false, "while scanning an anchor\n  in \"<unicode string>\", line 1, column 4\ndid not find expected alphabetic or numeric character\n  in \"<unicode string>\", line 1, column 5"),
    ("a: !", true, "{'a': ''}"),
    ("- ? a\n  : b", true, "[{'a': 'b'}]"),
    ("a: 'multi\n  line\n\n  single'", true, "{'a': 'multi line\\nsingle'}"),
    ("a: \"multi \\\n  line\"", true, "{'a': 'multi line'}"),
    ("a: [b, c]: d", false, "mapping values are not allowed in this context\n  in \"<unicode string>\", line 1, column 10"),
    ("{a: [1, {b: 2}], c: 3}", true, "{'a': [1, {'b': 2}], 'c': 3}"),
    ("a:\n- 1\n- 2\nb:\n  - 3", true, "{'a': [1, 2], 'b': [3]}"),
    ("a: x\n  # comment", true, "{'a': 'x'}"),
    ("a: |\n  keep trailing spaces   \n  x\n", true, "{'a': 'keep trailing spaces   \\nx\\n'}"),
    ("a: |\n  text", true, "{'a': 'text'}"),
    ("a: >\n  text", true, "{'a': 'text'}"),
    ("a: |+\n  text", true, "{'a': 'text'}"),
    ("a: |-\n  text", true, "{'a': 'text'}"),
    ("a: |", true, "{'a': ''}"),
    ("a: >", true, "{'a': ''}"),
    ("- |\n  x\n- |\n  y", true, "['x\\n', 'y']"),
    ("a: \">\"", true, "{'a': '>'}"),
    ("a: |\n  x\n\n  y", true, "{'a': 'x\\n\\ny'}"),
    ("a: >\n  x\n\n  y\n \n", true, "{'a': 'x\\ny\\n'}"),
    ("a: \u{1}b", false, "unacceptable character #x0001: control characters are not allowed\n  in \"<unicode string>\", position 3"),
    ("a: b\u{7}", false, "unacceptable character #x0007: control characters are not allowed\n  in \"<unicode string>\", position 4"),
    ("﻿a: 1", true, "{'a': 1}"),
    ("é: ü\nb: [", false, "while parsing a flow node\ndid not find expected node content\n  in \"<unicode string>\", line 3, column 1"),
    ("a: 'é\n b", false, "while scanning a quoted scalar\n  in \"<unicode string>\", line 1, column 4\nfound unexpected end of stream\n  in \"<unicode string>\", line 2, column 3"),
    ("a: \"\\q\"", false, "while parsing a quoted scalar\n  in \"<unicode string>\", line 1, column 4\nfound unknown escape character\n  in \"<unicode string>\", line 1, column 5"),
    ("a: 'x'y", false, "while parsing a block mapping\n  in \"<unicode string>\", line 1, column 1\ndid not find expected key\n  in \"<unicode string>\", line 1, column 7"),
    ("a: b\n\u{0}", false, "unacceptable character #x0000: control characters are not allowed\n  in \"<unicode string>\", position 5"),
    ("x: \u{7f}", false, "unacceptable character #x007f: control characters are not allowed\n  in \"<unicode string>\", position 3"),
    ("a:\n  - b\n  c: d", false, "while parsing a block collection\n  in \"<unicode string>\", line 2, column 3\ndid not find expected '-' indicator\n  in \"<unicode string>\", line 3, column 3"),
    ("a: {b: c]", false, "while parsing a flow mapping\n  in \"<unicode string>\", line 1, column 4\ndid not find expected ',' or '}'\n  in \"<unicode string>\", line 1, column 9"),
    ("[a, b}", false, "while parsing a flow sequence\n  in \"<unicode string>\", line 1, column 1\ndid not find expected ',' or ']'\n  in \"<unicode string>\", line 1, column 6"),
    ("a: b\n- c", false, "while parsing a block mapping\n  in \"<unicode string>\", line 1, column 1\ndid not find expected key\n  in \"<unicode string>\", line 2, column 1"),
    ("- a\n- b: c\n  d", false, "while scanning a simple key\n  in \"<unicode string>\", line 3, column 3\ncould not find expected ':'\n  in \"<unicode string>\", line 4, column 1"),
    ("a: !!python/unicode x", true, "{'a': 'x'}"),
    ("a: !!python/tuple [1]", false, "could not determine a constructor for the tag 'tag:yaml.org,2002:python/tuple'\n  in \"<unicode string>\", line 1, column 4"),
    ("a: |\n  x\n \tbad", false, "while scanning a block scalar\n  in \"<unicode string>\", line 1, column 4\nfound a tab character where an indentation space is expected\n  in \"<unicode string>\", line 3, column 2"),
    ("&a a: b", true, "{'a': 'b'}"),
    ("a: &a\nb: *a", true, "{'a': None, 'b': None}"),
    ("? a\n? a", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID 'a'\n  in \"<unicode string>\", line 2, column 3"),
    ("'a': 1\na: 2", false, "while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID 'a'\n  in \"<unicode string>\", line 2, column 1"),
    ("a: \"\\u263A\"", true, "{'a': '☺'}"),
    ("a: 'it''s'", true, "{'a': \"it's\"}"),
    ("a:\n  b: 1\n  c: {d: 1, d: 2}", false, "while constructing a mapping\n  in \"<unicode string>\", line 3, column 6\nfound conflicting ID 'd'\n  in \"<unicode string>\", line 3, column 13"),
];

#[test]
fn matches_salt_safe_load() {
    for (text, ok, want) in SALT_CASES {
        match load(text) {
            Ok(v) => {
                assert!(
                    ok,
                    "{text:?} loaded as {} but Salt fails: {want}",
                    v.py_repr()
                );
                assert_eq!(v.py_repr(), *want, "{text:?}");
            }
            Err(e) => {
                assert!(!ok, "{text:?} failed ({}) but Salt loads {want}", e.message);
                assert_eq!(e.message, *want, "{text:?}");
            }
        }
    }
}

#[test]
fn keeps_non_string_keys_and_order() {
    let v = load("b: 1\n2: x\nnull: y\ntrue: z\na: 2\n").unwrap_or_default();
    let keys: Vec<Value> = v
        .as_map()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        vec![
            Value::from("b"),
            Value::Int(2),
            Value::Null,
            Value::Bool(true),
            Value::from("a")
        ]
    );
}

#[test]
fn load_all_reads_every_document() {
    let docs = load_all("a: 1\n---\nb: 2\n").unwrap_or_default();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].get("b"), Some(&Value::Int(2)));
    assert!(load("a: 1\n---\nb: 2\n").is_err());
}

#[test]
fn errors_carry_the_problem_mark() {
    let err = load("a: [1, 2\n")
        .err()
        .unwrap_or_else(|| YamlError::plain(""));
    assert_eq!(err.mark, Some(Mark { line: 1, column: 0 }));
}
