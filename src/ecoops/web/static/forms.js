// A heading checkbox with data-tick-all="NAME" ticks or clears every checkbox named NAME on the page.
document.addEventListener("change", (event) => {
  const name = event.target.dataset && event.target.dataset.tickAll;
  if (!name) return;
  for (const box of document.querySelectorAll(`input[type=checkbox][name="${name}"]`)) {
    box.checked = event.target.checked;
  }
});
