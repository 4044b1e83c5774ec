/* Starts the vendored Swagger UI on /openapi.json (a file, not an inline script: the CSP allows 'self' only). */
window.addEventListener("load", function () {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
