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

// Anchoring a new note to a box: drag on the page image; the box goes into the note form's
// hidden fields as fractions of the page (x0 y0 x1 y1), and shows on the image meanwhile.
(() => {
  const form = document.getElementById("note-form");
  const frame = document.querySelector(".frame");
  const drawn = document.getElementById("drawn-box");
  if (!form || !frame || !drawn) return;
  const vh = Number(frame.dataset.vh) || 1294;
  let start = null;
  const at = (event) => {
    const r = frame.getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, v));
    return [clamp((event.clientX - r.left) / r.width), clamp((event.clientY - r.top) / r.height)];
  };
  const show = (a, b) => {
    const [x0, x1] = [Math.min(a[0], b[0]), Math.max(a[0], b[0])];
    const [y0, y1] = [Math.min(a[1], b[1]), Math.max(a[1], b[1])];
    drawn.setAttribute("x", x0 * 1000);
    drawn.setAttribute("y", y0 * vh);
    drawn.setAttribute("width", (x1 - x0) * 1000);
    drawn.setAttribute("height", (y1 - y0) * vh);
    return [x0, y0, x1, y1];
  };
  frame.classList.add("drawable");
  frame.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    start = at(event);
    frame.setPointerCapture(event.pointerId);
  });
  frame.addEventListener("pointermove", (event) => { if (start) show(start, at(event)); });
  frame.addEventListener("pointerup", (event) => {
    if (!start) return;
    const box = show(start, at(event));
    start = null;
    if (box[2] - box[0] < 0.005 || box[3] - box[1] < 0.005) return;
    ["x0", "y0", "x1", "y1"].forEach((name, i) => {
      document.getElementById("box-" + name).value = box[i].toFixed(5);
    });
    document.getElementById("box-hint").textContent = "The note will be anchored to the box drawn on the page.";
  });
})();
