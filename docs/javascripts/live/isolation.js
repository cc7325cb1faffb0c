// Cross-origin isolation for the live page, so WebAssembly can compute on several threads
// (SharedArrayBuffer). A static host cannot send the COOP/COEP headers it needs; a service worker
// can add them: coi-serviceworker (npm, MIT, copied to the site's root by the Makefile), registered
// here for this page and for the scripts it starts as workers (Chromium matches a worker's script
// to a service worker by the script's own address, and an isolated page only runs workers whose
// responses carry the headers too): its own worker's folder and the site search's. The first visit
// registers them and reloads once; from then on the page arrives isolated. Where that cannot work
// (a file:// page, a browser without service workers, a private window), the page goes on with
// one thread.
const WORKER_URL = new URL("../../coi-serviceworker.js", import.meta.url);
// Whole addresses, never a bare path: at an address with a double slash (//en-vivo.html) the path
// "//en-vivo.html" would read as another host's address (a protocol-relative URL) and the
// registration would fail.
const SCOPES = ["../../en-vivo.html", "./", "../../assets/javascripts/workers/"]
  .map(path => new URL(path, import.meta.url).href);
const RELOADED = "en-vivo-coi-reloaded";
// Resolves once the registration's service worker is active.
function active(registration) {
  const worker = registration.installing || registration.waiting || registration.active;
  if (!worker || worker.state === "activated") return Promise.resolve();
  return new Promise(resolve => worker.addEventListener("statechange", () => {
    if (worker.state === "activated") resolve();
  }));
}

// Resolves with {isolated, reason} once the page can go on; never resolves when it reloads itself.
export async function isolate() {
  if (self.crossOriginIsolated) {
    sessionStorage.removeItem(RELOADED);
    return {isolated: true, reason: null};
  }
  const container = navigator.serviceWorker;
  if (!self.isSecureContext || !container) {
    return {isolated: false, reason: "este navegador no permite aislar la página (hace falta https o localhost y service workers)"};
  }
  if (sessionStorage.getItem(RELOADED)) {
    sessionStorage.removeItem(RELOADED);   // reloaded once already: do not loop
    return {isolated: false, reason: "el navegador no aisló la página tras recargarla"};
  }
  try {
    const registrations = await Promise.all(SCOPES.map(scope => container.register(WORKER_URL.href, {scope})));
    await Promise.all(registrations.map(active));
  } catch (err) {
    return {isolated: false, reason: `no se pudo registrar el service worker (${err.message})`};
  }
  sessionStorage.setItem(RELOADED, "1");
  location.reload();
  return new Promise(() => {});
}
