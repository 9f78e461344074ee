// Numbers for people, in the page's language (the <html lang> attribute).
function locale() {
  return document.documentElement.lang || 'de';
}

export function formatNumber(value, fractionDigits = 0) {
  return new Intl.NumberFormat(locale(), {
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  }).format(value);
}

// "25,000 m² (2.5 ha)"; hectares only from one hectare on.
export function formatArea(squareMetres) {
  if (squareMetres === undefined || squareMetres === null) {
    return '–';
  }
  let text = `${formatNumber(Math.round(squareMetres))} m²`;
  if (squareMetres >= 10000) {
    text += ` (${formatNumber(squareMetres / 10000, 1)} ha)`;
  }
  return text;
}

export function formatPrice(eurPerSquareMetre, onRequest, messages) {
  if (typeof eurPerSquareMetre === 'number') {
    return `${formatNumber(eurPerSquareMetre, 2)} €/m²`;
  }
  return onRequest ? messages.priceOnRequest : messages.priceUnknown;
}
