import type { InteractiveContent } from "./content.js";
import { LIMITS } from "./limits.js";
import { validateMediaSource } from "./validate-common.js";
import type { Violations } from "./violations.js";

const L = LIMITS.interactive;

/** Reply buttons, list menus and CTA URL buttons (reference §5.2). */
export function validateInteractive(v: Violations, content: InteractiveContent): void {
  const action = content.action;
  v.text("interactive.body", content.body, action.kind === "list" ? L.listBody : L.body, true);
  v.text("interactive.footer", content.footer, L.footer);
  const header = content.header;
  if (header?.kind === "text") v.text("interactive.header.text", header.text, L.headerText, true);
  else if (header) {
    if (action.kind === "list") v.add(`interactive.header.${header.kind}`, "a list message takes only a text header");
    else validateMediaSource(v, `interactive.header.${header.kind}`, header.source);
  }

  switch (action.kind) {
    case "buttons": {
      const at = "interactive.buttons.buttons";
      v.count(at, action.buttons.length, 1, L.buttons, "buttons");
      action.buttons.forEach((button, i) => {
        v.text(`${at}[${i}].id`, button.id, L.buttonId, true);
        v.text(`${at}[${i}].title`, button.title, L.buttonTitle, true);
      });
      v.unique(action.buttons, (b) => b.id, (i) => `${at}[${i}].id`, "button ids");
      v.unique(action.buttons, (b) => b.title.trim().toLowerCase(), (i) => `${at}[${i}].title`, "button titles");
      break;
    }
    case "list": {
      v.text("interactive.list.button", action.button, L.listButton, true);
      v.count("interactive.list.sections", action.sections.length, 1, L.sections, "sections");
      const rows = action.sections.flatMap((section, s) => section.rows.map((row, r) => ({ row, field: `interactive.list.sections[${s}].rows[${r}]` })));
      v.count("interactive.list.sections", rows.length, 1, L.rows, "rows in total");
      action.sections.forEach((section, s) => {
        const at = `interactive.list.sections[${s}]`;
        // With several sections the titles are what tells them apart on screen.
        v.text(`${at}.title`, section.title, L.sectionTitle, action.sections.length > 1);
        if (section.rows.length === 0) v.add(`${at}.rows`, "needs at least 1 row");
      });
      for (const { row, field } of rows) {
        v.text(`${field}.id`, row.id, L.rowId, true);
        v.text(`${field}.title`, row.title, L.rowTitle, true);
        v.text(`${field}.description`, row.description, L.rowDescription);
      }
      v.unique(rows, (r) => r.row.id, (i) => `${rows[i]?.field ?? "interactive.list"}.id`, "row ids");
      break;
    }
    case "cta_url":
      v.text("interactive.cta_url.display_text", action.displayText, L.ctaDisplayText, true);
      v.httpUrl("interactive.cta_url.url", action.url, L.ctaUrl);
      break;
  }
}
