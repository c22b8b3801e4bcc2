/* vts-field-names: select boxes that CKAN's forms turn into select2 widgets
 * keep the name of their form label (WCAG 4.1.2). select2 names its combobox
 * by the box showing the current choice only, which is empty until something
 * is chosen, and leaves the search field of a multiple choice unnamed. Each
 * widget, also one added later (a new resource row), gets its label's id
 * before its own in aria-labelledby, and the search field the label's text.
 * Labels are read as text and written as attributes: nothing becomes HTML. */
(function () {
  "use strict";

  function labelOf(field) {
    if (!field || !field.id) {
      return null;
    }
    var label = document.querySelector('label[for="' + CSS.escape(field.id) + '"]');
    if (label && !label.id) {
      label.id = field.id + "-label";
    }
    return label;
  }

  function name(container) {
    var field = container.previousElementSibling;
    var label = labelOf(field);
    if (!label) {
      return;
    }
    container.querySelectorAll('[role="combobox"]').forEach(function (box) {
      var own = (box.getAttribute("aria-labelledby") || "").split(" ").filter(function (id) {
        return id && id !== label.id && document.getElementById(id);
      });
      box.setAttribute("aria-labelledby", [label.id].concat(own).join(" "));
    });
    // the box showing the choice is a read-only textbox of its own
    container.querySelectorAll('.select2-selection__rendered[role="textbox"]').forEach(
      function (shown) {
        if (shown.id) {
          shown.setAttribute("aria-labelledby", label.id + " " + shown.id);
        }
      });
    container.querySelectorAll(".select2-search__field").forEach(function (search) {
      search.setAttribute("aria-label", label.textContent.replace(/\s+/g, " ").trim());
    });
  }

  function nameAll(root) {
    root.querySelectorAll(".select2-container").forEach(name);
  }

  document.addEventListener("DOMContentLoaded", function () {
    nameAll(document);
    // select2 builds its widgets when CKAN's modules start, and again on change
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.addedNodes.forEach(function (node) {
          if (node.nodeType === 1) {
            if (node.classList.contains("select2-container")) {
              name(node);
            }
            nameAll(node);
          }
        });
      });
    }).observe(document.body, {childList: true, subtree: true});
  });
})();
