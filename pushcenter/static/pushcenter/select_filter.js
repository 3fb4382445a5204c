// Django's two-box selector (filter_horizontal) names its search icon with aria-label on a
// plain span, which assistive technologies ignore (axe: aria-prohibited-attr); role="img"
// makes that name the icon's. SelectFilter2.js builds the boxes on load, so this runs after.
"use strict";
window.addEventListener("load", () => {
  document.querySelectorAll(".selector .search-label-icon[aria-label]:not([role])").forEach((icon) => {
    icon.setAttribute("role", "img");
  });
});
