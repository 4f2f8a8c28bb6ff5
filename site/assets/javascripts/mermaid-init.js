// Draws every ```mermaid block (rendered as <div class="mermaid">) with the vendored Mermaid,
// so the site loads nothing from a CDN. Material's own Mermaid support only handles
// <pre class="mermaid"> and falls back to unpkg.com, so the blocks use a <div> instead.
// `document$` is Material's page observable: it fires on every page it shows.
mermaid.initialize({
  startOnLoad: false,
  securityLevel: "strict",
  theme: "neutral",
  flowchart: { nodeSpacing: 30, rankSpacing: 40 },
});
document$.subscribe(function () {
  mermaid.run({ querySelector: "div.mermaid" });
});
