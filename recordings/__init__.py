"""Call recordings: the register, where files go, retention, role-checked and audited access."""
