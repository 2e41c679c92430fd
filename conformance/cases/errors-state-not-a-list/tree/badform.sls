dict_args:
  file.managed:
    name: @ROOT@/work/x
    contents: y

string_id: just a string
