include:
  - three:
      key: nested3
app:
  a: 1
  l: [1, 2]
  deep: {x: 1}
