import { describe, expect, it } from "vitest";

import type { OutboundContent } from "./content.js";
import { toGraphMessage } from "./graph-message.js";
import { readGraphMessage, replyWamidOf } from "./read-graph-message.js";

/** Each content and the Graph API object Meta documents for it (reference §5.2). */
const CASES: { name: string; content: OutboundContent; graph: unknown }[] = [
  {
    name: "text with a link preview",
    content: { kind: "text", body: "See https://example.com", previewUrl: true },
    graph: { type: "text", text: { body: "See https://example.com", preview_url: true } },
  },
  {
    name: "image by media id with a caption",
    content: { kind: "media", mediaKind: "image", source: { kind: "id", id: "1479537139650973" }, caption: "The menu", filename: "" },
    graph: { type: "image", image: { id: "1479537139650973", caption: "The menu" } },
  },
  {
    name: "document by link with a file name",
    content: { kind: "media", mediaKind: "document", source: { kind: "link", link: "https://example.com/a.pdf" }, caption: "", filename: "a.pdf" },
    graph: { type: "document", document: { link: "https://example.com/a.pdf", filename: "a.pdf" } },
  },
  {
    name: "sticker by id",
    content: { kind: "media", mediaKind: "sticker", source: { kind: "id", id: "st-1" }, caption: "", filename: "" },
    graph: { type: "sticker", sticker: { id: "st-1" } },
  },
  {
    name: "location",
    content: { kind: "location", latitude: 37.44, longitude: -122.16, name: "Philz", address: "101 Forest Ave" },
    graph: { type: "location", location: { latitude: 37.44, longitude: -122.16, name: "Philz", address: "101 Forest Ave" } },
  },
  {
    name: "contacts",
    content: {
      kind: "contacts",
      cards: [
        {
          name: { formattedName: "Ana Pérez", firstName: "Ana" },
          phones: [{ phone: "+593987654321", waId: "593987654321", type: "CELL" }],
          emails: [{ email: "ana@example.com", type: "WORK" }],
          addresses: [],
          urls: [],
          birthday: "1990-04-01",
        },
      ],
    },
    graph: {
      type: "contacts",
      contacts: [
        {
          name: { formatted_name: "Ana Pérez", first_name: "Ana" },
          birthday: "1990-04-01",
          phones: [{ phone: "+593987654321", type: "CELL", wa_id: "593987654321" }],
          emails: [{ email: "ana@example.com", type: "WORK" }],
        },
      ],
    },
  },
  {
    name: "reply buttons with a text header and footer",
    content: {
      kind: "interactive",
      header: { kind: "text", text: "Order #1" },
      body: "Confirm?",
      footer: "Acme",
      action: { kind: "buttons", buttons: [{ id: "yes", title: "Yes" }, { id: "no", title: "No" }] },
    },
    graph: {
      type: "interactive",
      interactive: {
        type: "button",
        header: { type: "text", text: "Order #1" },
        body: { text: "Confirm?" },
        footer: { text: "Acme" },
        action: { buttons: [{ type: "reply", reply: { id: "yes", title: "Yes" } }, { type: "reply", reply: { id: "no", title: "No" } }] },
      },
    },
  },
  {
    name: "list",
    content: {
      kind: "interactive",
      header: undefined,
      body: "Pick a slot",
      footer: "",
      action: { kind: "list", button: "Slots", sections: [{ title: "Today", rows: [{ id: "t1", title: "10:00", description: "Morning" }] }] },
    },
    graph: {
      type: "interactive",
      interactive: {
        type: "list",
        body: { text: "Pick a slot" },
        action: { button: "Slots", sections: [{ title: "Today", rows: [{ id: "t1", title: "10:00", description: "Morning" }] }] },
      },
    },
  },
  {
    name: "cta_url with an image header",
    content: {
      kind: "interactive",
      header: { kind: "image", source: { kind: "link", link: "https://example.com/a.png" } },
      body: "Track it",
      footer: "",
      action: { kind: "cta_url", displayText: "Track", url: "https://example.com/t/1" },
    },
    graph: {
      type: "interactive",
      interactive: {
        type: "cta_url",
        header: { type: "image", image: { link: "https://example.com/a.png" } },
        body: { text: "Track it" },
        action: { name: "cta_url", parameters: { display_text: "Track", url: "https://example.com/t/1" } },
      },
    },
  },
  {
    name: "reaction",
    content: { kind: "reaction", messageRef: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA", emoji: "👍" },
    graph: { type: "reaction", reaction: { message_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA", emoji: "👍" } },
  },
  {
    name: "authentication template (code in the body and the copy-code URL button)",
    content: {
      kind: "template",
      name: "verify_code",
      language: "en_US",
      components: [
        { type: "body", subType: undefined, index: 0, parameters: [{ parameterName: "", value: { kind: "text", text: "123456" } }] },
        { type: "button", subType: "url", index: 0, parameters: [{ parameterName: "", value: { kind: "text", text: "123456" } }] },
      ],
    },
    graph: {
      type: "template",
      template: {
        name: "verify_code",
        language: { code: "en_US" },
        components: [
          { type: "body", parameters: [{ type: "text", text: "123456" }] },
          { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: "123456" }] },
        ],
      },
    },
  },
  {
    name: "template with named parameters, currency, date and a media header",
    content: {
      kind: "template",
      name: "order_confirmation",
      language: "es",
      components: [
        { type: "header", subType: undefined, index: 0, parameters: [{ parameterName: "", value: { kind: "image", source: { kind: "id", id: "m-1" } } }] },
        {
          type: "body",
          subType: undefined,
          index: 0,
          parameters: [
            { parameterName: "first_name", value: { kind: "text", text: "Jessica" } },
            { parameterName: "total", value: { kind: "currency", fallbackValue: "$100.99", code: "USD", amount1000: 100990 } },
            { parameterName: "day", value: { kind: "date_time", fallbackValue: "February 25, 1977" } },
          ],
        },
        { type: "button", subType: "quick_reply", index: 1, parameters: [{ parameterName: "", value: { kind: "payload", payload: "STOP" } }] },
      ],
    },
    graph: {
      type: "template",
      template: {
        name: "order_confirmation",
        language: { code: "es" },
        components: [
          { type: "header", parameters: [{ type: "image", image: { id: "m-1" } }] },
          {
            type: "body",
            parameters: [
              { type: "text", parameter_name: "first_name", text: "Jessica" },
              { type: "currency", parameter_name: "total", currency: { fallback_value: "$100.99", code: "USD", amount_1000: 100990 } },
              { type: "date_time", parameter_name: "day", date_time: { fallback_value: "February 25, 1977" } },
            ],
          },
          { type: "button", sub_type: "quick_reply", index: "1", parameters: [{ type: "payload", payload: "STOP" }] },
        ],
      },
    },
  },
];

describe("toGraphMessage", () => {
  for (const { name, content, graph } of CASES) {
    it(`when the content is ${name}, then the Graph API object is exactly Meta's shape`, () => {
      expect(toGraphMessage(content)).toStrictEqual(graph);
    });
    it(`when the stored object of ${name} is read back, then the same content comes out`, () => {
      const read = readGraphMessage(toGraphMessage(content));
      expect(toGraphMessage(read!)).toStrictEqual(graph);
    });
  }

  it("when a message replies to a wamid, then the object carries context.message_id", () => {
    const graph = toGraphMessage({ kind: "text", body: "Yes", previewUrl: false }, "wamid.ABC");
    expect(graph).toStrictEqual({ type: "text", text: { body: "Yes" }, context: { message_id: "wamid.ABC" } });
    expect(replyWamidOf(graph)).toBe("wamid.ABC");
  });

  it("when a stored object has a type nobody wrote here, then reading it gives nothing instead of a wrong content", () => {
    expect(readGraphMessage({ type: "order_details", order_details: {} })).toBeUndefined();
  });
});
