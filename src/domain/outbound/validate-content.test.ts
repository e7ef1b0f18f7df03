import { describe, expect, it } from "vitest";

import type { InteractiveContent, OutboundContent, TemplateContent } from "./content.js";
import { validateContent } from "./validate-content.js";

const fields = (content: OutboundContent) => validateContent(content).map((v) => v.field);

const buttons = (titles: string[]): InteractiveContent => ({
  kind: "interactive",
  header: undefined,
  body: "Choose",
  footer: "",
  action: { kind: "buttons", buttons: titles.map((title, i) => ({ id: `b${i}`, title })) },
});

const template = (components: TemplateContent["components"]): TemplateContent => ({ kind: "template", name: "hello", language: "en_US", components });

describe("validateContent", () => {
  it("when a text body is 4096 characters (emoji count once), then it passes; at 4097, then text.body is refused", () => {
    expect(fields({ kind: "text", body: "😀".repeat(4096), previewUrl: false })).toEqual([]);
    expect(fields({ kind: "text", body: "a".repeat(4097), previewUrl: false })).toEqual(["text.body"]);
    expect(fields({ kind: "text", body: "   ", previewUrl: false })).toEqual(["text.body"]);
  });

  it("when a caption is too long or given to audio, or a file name to an image, then those fields are refused", () => {
    const media = (mediaKind: "image" | "audio", caption: string, filename = ""): OutboundContent => ({
      kind: "media",
      mediaKind,
      source: { kind: "link", link: "https://example.com/x" },
      caption,
      filename,
    });
    expect(fields(media("image", "c".repeat(1025)))).toEqual(["media.caption"]);
    expect(fields(media("audio", "hi"))).toEqual(["media.caption"]);
    expect(fields(media("image", "", "x.png"))).toEqual(["media.filename"]);
    expect(fields({ kind: "media", mediaKind: "image", source: { kind: "link", link: "ftp://example.com/x" }, caption: "", filename: "" })).toEqual(["media.link"]);
  });

  it("when there are four buttons, a 21-character title or two equal titles, then each offending path is named", () => {
    expect(fields(buttons(["a", "b", "c", "d"]))).toEqual(["interactive.buttons.buttons"]);
    expect(fields(buttons(["x".repeat(21)]))).toEqual(["interactive.buttons.buttons[0].title"]);
    expect(fields(buttons(["Yes", "yes"]))).toEqual(["interactive.buttons.buttons[1].title"]);
  });

  it("when a list has 11 rows across sections, long titles or untitled sections among several, then the rules of lists apply", () => {
    const row = (i: number) => ({ id: `r${i}`, title: `Row ${i}`, description: "" });
    const list = (sections: { title: string; rows: ReturnType<typeof row>[] }[], body = "Pick"): OutboundContent => ({
      kind: "interactive",
      header: undefined,
      body,
      footer: "",
      action: { kind: "list", button: "Open", sections },
    });
    const eleven = [
      { title: "A", rows: [0, 1, 2, 3, 4, 5].map(row) },
      { title: "B", rows: [6, 7, 8, 9, 10].map(row) },
    ];
    expect(fields(list(eleven))).toEqual(["interactive.list.sections"]);
    expect(fields(list([{ title: "", rows: [row(1)] }, { title: "B", rows: [row(2)] }]))).toEqual(["interactive.list.sections[0].title"]);
    expect(fields(list([{ title: "s".repeat(25), rows: [{ id: "r", title: "t".repeat(25), description: "d".repeat(73) }] }]))).toEqual([
      "interactive.list.sections[0].title",
      "interactive.list.sections[0].rows[0].title",
      "interactive.list.sections[0].rows[0].description",
    ]);
    // A list body may be up to 4096; a buttons body only 1024.
    expect(fields(list([{ title: "", rows: [row(1)] }], "b".repeat(2000)))).toEqual([]);
    expect(fields({ ...buttons(["ok"]), body: "b".repeat(2000) })).toEqual(["interactive.body"]);
  });

  it("when a cta_url has a long label or a non-http URL, then those fields are refused", () => {
    const cta: OutboundContent = {
      kind: "interactive",
      header: undefined,
      body: "Go",
      footer: "f".repeat(61),
      action: { kind: "cta_url", displayText: "d".repeat(21), url: "javascript:alert(1)" },
    };
    expect(fields(cta)).toEqual(["interactive.footer", "interactive.cta_url.display_text", "interactive.cta_url.url"]);
  });

  it("when a reaction is two emoji or plain text, then reaction.emoji is refused; one emoji or none passes", () => {
    const reaction = (emoji: string): OutboundContent => ({ kind: "reaction", messageRef: "wamid.X", emoji });
    expect(fields(reaction("👍"))).toEqual([]);
    expect(fields(reaction("👍🏽"))).toEqual([]);
    expect(fields(reaction("🇪🇨"))).toEqual([]);
    expect(fields(reaction(""))).toEqual([]);
    expect(fields(reaction("👍👍"))).toEqual(["reaction.emoji"]);
    expect(fields(reaction("ok"))).toEqual(["reaction.emoji"]);
  });

  it("when latitude or longitude are out of range, then location fields are refused", () => {
    expect(fields({ kind: "location", latitude: 91, longitude: -181, name: "", address: "" })).toEqual(["location.latitude", "location.longitude"]);
    expect(fields({ kind: "location", latitude: Number.NaN, longitude: 0, name: "", address: "" })).toEqual(["location.latitude"]);
  });

  it("when a contact card has no formatted name, then its path is named", () => {
    expect(fields({ kind: "contacts", cards: [{ name: { firstName: "Ana" }, phones: [], emails: [], addresses: [], urls: [] }] })).toEqual([
      "contacts.contacts[0].name.formatted_name",
    ]);
  });

  it("when template parameters break Meta's shapes, then each component and parameter path is named", () => {
    const text = (t: string, parameterName = "") => ({ parameterName, value: { kind: "text" as const, text: t } });
    expect(fields({ ...template([]), name: "Hello World" })).toEqual(["template.name"]);
    expect(fields(template([{ type: "header", subType: undefined, index: 0, parameters: [text("a"), text("b")] }]))).toEqual(["template.components[0].parameters"]);
    expect(fields(template([{ type: "body", subType: undefined, index: 0, parameters: [text("line\nbreak")] }]))).toEqual([
      "template.components[0].parameters[0].text",
    ]);
    expect(fields(template([{ type: "button", subType: "quick_reply", index: 0, parameters: [text("x")] }]))).toEqual([
      "template.components[0].parameters[0].text",
    ]);
    expect(
      fields(
        template([
          { type: "body", subType: undefined, index: 0, parameters: [text("a", "first_name"), text("b")] },
          { type: "body", subType: undefined, index: 0, parameters: [] },
        ]),
      ),
    ).toEqual(["template.components[1]", "template.components"]);
    expect(fields(template([{ type: "button", subType: undefined, index: 0, parameters: [] }]))).toEqual(["template.components[0].sub_type"]);
  });
});
