where: base
