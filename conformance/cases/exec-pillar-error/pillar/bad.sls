a: [unclosed
