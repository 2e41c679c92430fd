app:
  b: 2
  l: [3]
  deep: {y: 2}
