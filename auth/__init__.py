"""Users, roles, login and MFA, sessions, API tokens and the audit log."""
