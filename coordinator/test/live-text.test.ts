import { describe, expect, it } from "vitest";
import { LiveText } from "../live-text.ts";

describe("LiveText", () => {
  it("forwards every token of a single run, and the verified text's missing tail at the end", () => {
    const live = new LiveText();
    expect([live.token("Once"), live.token(" upon")]).toEqual(["Once", " upon"]);
    expect(live.finish("Once upon a time")).toBe(" a time");
  });

  it("sends a re-run only past what the client already has, while it agrees", () => {
    const live = new LiveText();
    live.token("Hello wo");
    live.restart();
    expect([live.token("Hel"), live.token("lo"), live.token(" world"), live.token("!")]).toEqual(["", "", "rld", "!"]);
    expect(live.finish("Hello world!")).toBe("");
  });

  it("stops forwarding a re-run that disagrees, and cannot finish on a different answer", () => {
    const live = new LiveText();
    live.token("Yes, indeed");
    live.restart();
    expect([live.token("No"), live.token(" way")]).toEqual(["", ""]);
    expect(live.finish("No way")).toBeNull();
  });

  it("finishes after a disagreeing run when a later run's verified text extends what was sent", () => {
    const live = new LiveText();
    live.token("Same");
    live.restart();
    live.token("Other");
    live.restart();
    live.token("Same");
    expect(live.finish("Same start")).toBe(" start");
  });
});
