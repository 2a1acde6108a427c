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
