// Small DOM helpers shared by the views.

/** Sets an element's text only when it differs: an unchanged write still costs a relayout. */
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

/** A new element with a class and text. */
export function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** An input's `min` and `max` attributes from a served range (removed where a side is open). */
export function setInputRange(input, range) {
  for (const side of ["min", "max"]) {
    const value = range?.[side];
    if (value === null || value === undefined) input.removeAttribute(side);
    else input.setAttribute(side, String(value));
  }
}

/** Offers `contents` (a string, a Blob's parts) to the reader as a file download. */
export function saveBlob(contents, type, fileName) {
  const blob = contents instanceof Blob ? contents : new Blob([contents], { type });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
