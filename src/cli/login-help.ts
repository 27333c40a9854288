/** What `ldapsync login --help` adds after the options (its own file, so that --help loads no login code). */
export const LOGIN_HELP = `
The password is read from stdin: typed without echo on a terminal, or the first line of a pipe
(printf '%s\\n' "$PASSWORD" | ldapsync login alice@example.com). A login through LDAP creates or
updates the user's row as a sync would. Password changes are not supported: change the password in
the directory (LDAP / Active Directory) itself.

Exit codes: 0 the password is right; 1 refused (wrong password or unknown user, a local user,
an unknown domain, a disabled account) or the directory or store could not be reached; 2 usage or
configuration error.`;
