// Numbers for people, in the page's language (the <html lang> attribute), as the server
// writes them (sitefinder/l10n.py): grouped from four digits on in every language (CLDR
// leaves Polish "1234" ungrouped; the site writes "1 234" like the server).
function locale() {
  return document.documentElement.lang || 'de';
}

export function formatNumber(value, fractionDigits = 0) {
  return new Intl.NumberFormat(locale(), {
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
    useGrouping: 'always',
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

const OFFERS = [
  ['sale', 'price_eur_m2', 'unitSale'],
  ['rent', 'rent_eur_m2_month', 'unitRent'],
  ['leasehold', 'ground_rent_eur_m2_year', 'unitLeasehold'],
];

function figure(value) {
  if (value === null || value === undefined || value === '') {
    return null;
  }
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

// What a site costs, as properties.presentation.site_price writes it: each offer type with
// its comparable figure ("Sale 85.00 €/m² · Leasehold 3.40 €/m²/year"), then
// "commission-free". Reads the API's GeoJSON properties and the tiles' (offer types joined
// with commas there).
export function formatPrice(properties, messages) {
  let offers = properties.offer_types || [];
  if (typeof offers === 'string') {
    offers = offers ? offers.split(',') : [];
  }
  const stated = OFFERS.filter(([offer]) => offers.includes(offer));
  let text;
  if (!stated.length && figure(properties.price_eur_m2) === null) {
    text = properties.price_on_request ? messages.priceOnRequest : messages.priceUnknown;
  } else {
    const shown = stated.length ? stated : [OFFERS[0]];
    text = shown
      .map(([offer, field, unit]) => {
        const value = figure(properties[field]);
        let amount;
        if (value !== null) {
          amount = `${formatNumber(value, 2)}\u00a0${messages[unit]}`;
        } else {
          amount = properties.price_on_request ? messages.priceOnRequest : messages.priceUnknown;
        }
        return `${messages.offerLabels[offer]} ${amount}`;
      })
      .join(' · ');
    if (properties.price_on_request && shown.every(([, field]) => figure(properties[field]) !== null)) {
      text += ` · ${messages.priceOnRequest}`;
    }
  }
  if (properties.commission_free) {
    text += ` · ${messages.commissionFree}`;
  }
  return text;
}
