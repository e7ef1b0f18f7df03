import { describe, expect, it } from "vitest";

import { marketingPreferencesOf } from "./user-preferences.js";

describe("Meta user_preferences", () => {
  it("when the user stops or resumes marketing messages, then each preference is read with its time; anything else is ignored", () => {
    const value = {
      user_preferences: [
        { wa_id: "16505551234", category: "marketing_messages", value: "stop", timestamp: 1731705721 },
        { wa_id: "16505551235", category: "marketing_messages", value: "resume", timestamp: "1731705722" },
        { wa_id: "16505551236", category: "something_else", value: "stop" },
        { wa_id: "", value: "stop" },
        "junk",
      ],
    };
    expect(marketingPreferencesOf("user_preferences", value)).toEqual([
      { waId: "16505551234", optedOut: true, time: new Date(1731705721000) },
      { waId: "16505551235", optedOut: false, time: new Date(1731705722000) },
    ]);
    expect(marketingPreferencesOf("account_update", value)).toEqual([]);
    expect(marketingPreferencesOf("user_preferences", null)).toEqual([]);
  });
});
