// Keyboard paging in the document viewer: left/right arrows turn pages, n/p jump between hits.
// Everything also works without it: these keys only follow the toolbar's own links.
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement) return;
  const links = { ArrowLeft: "prev-page", ArrowRight: "next-page", p: "prev-hit", n: "next-hit" };
  const link = document.getElementById(links[event.key] || "");
  if (link) {
    event.preventDefault();
    link.click();
  }
});
