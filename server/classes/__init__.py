"""The teacher's class (issue 19): students join with a code and a name, and the teacher sees,
pauses, configures and exports them all (docs/api.md, "Classes").

It reads the live sessions (`backprop_lab.server.live`) and the identities
(`backprop_lab.server.classroom`), which know nothing of it: the session manager asks it only
through one hook, `SessionManager.training_gate`, set when the app is composed.
"""
