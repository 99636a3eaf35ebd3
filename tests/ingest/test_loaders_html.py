"""HTML loading: title, canonical URL, chrome removal and Markdown rendering."""

from __future__ import annotations

from pathlib import Path

from ingest.loaders import load_file
from ingest.types import SourceDocument

PAGE = """<!doctype html>
<html>
<head>
  <title>Authentication | Example Docs</title>
  <link rel="canonical" href="https://docs.example.com/auth">
  <meta property="og:url" content="https://docs.example.com/og-auth">
  <style>.x { color: red }</style>
  <script>window.analytics = 1;</script>
</head>
<body>
  <header>Example Docs · Sign in</header>
  <nav><ul><li><a href="/">Home</a></li><li>Pricing</li></ul></nav>
  <aside>On this page</aside>
  <main>
    <h1>Authentication</h1>
    <p>Send your key as a <code>Bearer</code> token.<br>Keys never expire.</p>
    <!-- editorial note -->
    <h2>Scopes</h2>
    <ul>
      <li>read</li>
      <li><p>write</p>
        <ul><li>write:payments</li></ul>
      </li>
    </ul>
    <ol><li>Create a key</li><li>Store it safely</li></ol>
    <pre><code class="language-bash">curl -H "Authorization: Bearer &lt;KEY&gt;" \\
    https://api.example.com/v1/me</code></pre>
    <h3>Errors</h3>
    <table>
      <tr><th>Status</th><th>Meaning</th></tr>
      <tr><td>401</td><td>Missing | invalid key</td></tr>
    </table>
  </main>
  <footer>© Example</footer>
</body>
</html>
"""


def _load(path: Path, root: Path, **kwargs: object) -> SourceDocument:
    docs = load_file(path, root, max_bytes=1_000_000, **kwargs)  # type: ignore[arg-type]
    assert len(docs) == 1
    return docs[0]


def test_html_page_to_markdown(tmp_path: Path) -> None:
    page = tmp_path / "guides" / "auth.html"
    page.parent.mkdir()
    page.write_text(PAGE)
    doc = _load(page, tmp_path)
    assert doc.doc_id == "guides/auth"
    assert doc.source == "guides/auth.html"
    assert doc.title == "Authentication | Example Docs"
    assert doc.url == "https://docs.example.com/auth"
    assert doc.kind == "doc"
    text = doc.text
    for chrome in ("Sign in", "Pricing", "On this page", "© Example", "analytics", "color: red"):
        assert chrome not in text
    assert "editorial note" not in text
    assert text.startswith("# Authentication\n\n")
    assert "Send your key as a `Bearer` token.\nKeys never expire." in text
    assert "\n## Scopes\n\n- read\n- write\n  - write:payments\n\n- Create a key\n" in text
    assert '```bash\ncurl -H "Authorization: Bearer <KEY>" \\\n    https://api' in text
    assert (
        "\n### Errors\n\n| Status | Meaning |\n| --- | --- |\n| 401 | Missing \\| invalid key |"
        in text
    )


def test_og_url_h1_title_and_body_without_main(tmp_path: Path) -> None:
    page = tmp_path / "plain.htm"
    page.write_text(
        '<html><head><meta property="og:url" content="https://x.dev/p"></head><body>'
        "<header>Site</header><h1>Plain page</h1><div><p>First.</p><p>Second.</p></div>"
        "<footer>Footer</footer></body></html>"
    )
    doc = _load(page, tmp_path)
    assert doc.title == "Plain page"
    assert doc.url == "https://x.dev/p"
    assert doc.text == "# Plain page\n\nFirst.\n\nSecond.\n"


def test_article_keeps_its_own_header(tmp_path: Path) -> None:
    page = tmp_path / "post.html"
    page.write_text(
        "<body><nav>Menu</nav><article><header><h1>Release notes</h1></header>"
        "<p>Version 2 is out.</p></article></body>"
    )
    doc = _load(page, tmp_path)
    assert doc.text == "# Release notes\n\nVersion 2 is out.\n"


def test_manifest_fallbacks_and_stem_title(tmp_path: Path) -> None:
    page = tmp_path / "fragment.html"
    page.write_text("<p>Just a fragment.</p>")
    doc = _load(page, tmp_path)
    assert (doc.title, doc.url) == ("fragment", None)
    row = {"title": "From manifest", "url": "https://m.dev/f", "kind": "guide"}
    doc = _load(page, tmp_path, manifest_row=row)
    assert (doc.title, doc.url, doc.kind) == ("From manifest", "https://m.dev/f", "guide")
    assert doc.text == "Just a fragment.\n"
