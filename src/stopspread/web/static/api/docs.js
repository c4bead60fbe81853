// Starts Swagger UI on /docs. A file of our own origin, because the pages' CSP allows no
// inline script. The validator badge is off: it would send the API description to another site.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    onComplete: function () {
      root.setAttribute("data-state", "ready");
    },
  });
})();
