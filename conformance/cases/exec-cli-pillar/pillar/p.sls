color: red
nested:
  k: file
  keep: yes
