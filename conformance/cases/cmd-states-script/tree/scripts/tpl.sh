#!/bin/sh
echo "{{ word }} {{ grains['id'] }}"
