"""Users, host memberships and roles, login and logout."""
