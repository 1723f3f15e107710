/* HTML bodies read as a browser reads them, by libxml2's HTML parser:
 * the title, form controls, and the assets a page references.  A
 * document is parsed once and answers every question after that. */
#ifndef GOOSE_CONTENT_HTML_H
#define GOOSE_CONTENT_HTML_H

#include <stddef.h>

typedef struct goose_html goose_html;

/* Parses body (any bytes: HTML is recovered as browsers do); NULL only
 * when out of memory. */
goose_html *goose__html_parse(const char *body, size_t len);
void goose__html_free(goose_html *doc);
/* The <title> text, whitespace collapsed; NULL when the page has none.
 * Owned by doc. */
const char *goose__html_title(goose_html *doc);
/* The value a browser submits for the first control named field (input
 * value, selected option, textarea text), entities decoded; NULL when no
 * control has that name.  Owned by doc. */
const char *goose__html_form_value(goose_html *doc, const char *field);
/* s with runs of ASCII whitespace made one space and none at either end
 * (HTML's "strip and collapse", as titles are compared), in place. */
char *goose__html_collapse(char *s);
/* The href of the document's first <base> that has one, as written (a
 * browser resolves the page's references against it); NULL when none.
 * Owned by doc. */
const char *goose__html_base(goose_html *doc);
/* Calls fn with each reference a browser loads with the page, in
 * document order, as written (not resolved): img src, script src, link
 * href with rel stylesheet or icon (surrounding whitespace trimmed, empty
 * ones skipped).  Stops at fn's first non-zero return and returns it; 0
 * after the last, -1 when out of memory. */
typedef int (*goose_html_asset_fn)(void *arg, const char *ref);
int goose__html_assets(goose_html *doc, goose_html_asset_fn fn, void *arg);

#endif
