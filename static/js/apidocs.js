// Starts Swagger UI on /docs (server/routes/apidocs.py). A file rather than the inline script
// FastAPI's page has, so /docs runs under the lab's Content-Security-Policy (server/web/headers.py).
// swagger-ui-bundle.js, a classic script before this module, defines window.SwaggerUIBundle.

const root = document.getElementById("swagger-ui");
const { SwaggerUIBundle } = window;

SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
