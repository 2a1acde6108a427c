"""Who may do what in classroom mode: identities (the teacher, students), their quotas, and the
sockets each may hold."""
