"""The login page: one small self-contained HTML form (no scripts, no outside assets)."""

from __future__ import annotations

from html import escape

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · Dashboard</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f7f9; display: grid; place-items: center; min-height: 100vh; margin: 0; }}
form {{ background: white; padding: 2rem 2.5rem; border-radius: 0.75rem; box-shadow: 0 1px 4px rgba(0,0,0,.12); width: 18rem; }}
h1 {{ font-size: 1.3rem; margin: 0 0 1.2rem; }}
label {{ display: block; font-size: .9rem; margin: .8rem 0 .25rem; }}
input {{ width: 100%; box-sizing: border-box; padding: .5rem; border: 1px solid #c9ccd1; border-radius: .4rem; font-size: 1rem; }}
button {{ margin-top: 1.2rem; width: 100%; padding: .6rem; border: 0; border-radius: .4rem; background: #ff4b4b; color: white; font-size: 1rem; cursor: pointer; }}
.error {{ color: #b00020; font-size: .9rem; margin-top: .8rem; }}
.sso {{ display: block; margin-top: 1rem; padding: .55rem; border: 1px solid #c9ccd1; border-radius: .4rem; text-align: center; color: inherit; text-decoration: none; }}
:root {{ color-scheme: light dark; }}
@media (prefers-color-scheme: dark) {{
body {{ background: #171614; color: #f0efed; }}
form {{ background: #2a2926; box-shadow: none; }}
input, .sso {{ border-color: #4a4742; }}
.error {{ color: #ff8a80; }}
}}
</style></head>
<body><form method="post" action="/auth/login">
<h1>Dashboard</h1>
<input type="hidden" name="next" value="{next}">
{fields}{sso}
{error}
</form></body></html>
"""

FIELDS = """<label for="name">Name</label><input id="name" name="name" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
"""


def login_html(next_path: str, error: str = "", sso: tuple[str, str] | None = None, passwords: bool = True) -> str:
    """``sso``: ("Log in with <provider>", its URL) when [auth.oidc] is configured;
    ``passwords``: whether the name and password fields are shown."""
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    link = f'<a class="sso" href="{escape(sso[1], quote=True)}">{escape(sso[0])}</a>' if sso else ""
    fields = FIELDS if passwords or not sso else ""
    return PAGE.format(next=escape(next_path, quote=True), error=message, fields=fields, sso=link)
