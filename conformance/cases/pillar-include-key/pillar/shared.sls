shared_value: from shared
shared_only: yes
