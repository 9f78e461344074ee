// Reads configuration that a template passed with Django's json_script filter.
export function readJsonScript(id) {
  const element = document.getElementById(id);
  if (!element) {
    throw new Error(`sitefinder: configuration element #${id} is missing`);
  }
  return JSON.parse(element.textContent);
}
