"""Who may do what in classroom mode: identities (the teacher, students) and their quotas."""
