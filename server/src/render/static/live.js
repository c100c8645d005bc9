// jellycell-lsp preview: reload this page when the preview server says its notebook (or
// everything, "*") changed. Events: `event: reload` with `data: {"path": "<notebook>"}`.
(function () {
  var meta = document.querySelector('meta[name="jellycell:notebook"]');
  var mine = meta ? meta.getAttribute("content") : null;
  var source = new EventSource("/events");
  source.addEventListener("reload", function (event) {
    var path = "*";
    try { path = JSON.parse(event.data).path; } catch (error) { /* reload anyway */ }
    if (path === "*" || mine === null || path === mine) {
      var y = window.scrollY;
      sessionStorage.setItem("jc-scroll:" + location.pathname, String(y));
      location.reload();
    }
  });
  var saved = sessionStorage.getItem("jc-scroll:" + location.pathname);
  if (saved !== null) {
    sessionStorage.removeItem("jc-scroll:" + location.pathname);
    window.addEventListener("load", function () { window.scrollTo(0, Number(saved)); });
  }
})();
