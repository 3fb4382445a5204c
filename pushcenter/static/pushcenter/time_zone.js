// Tell the dashboard the browser's time zone, for users who have not chosen one.
"use strict";

(function () {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const name = "pushcenter_time_zone";
  const current = document.cookie.split("; ").find((item) => item.startsWith(`${name}=`));
  // IANA names (letters, digits, "/", "_", "-", "+") need no escaping in a cookie.
  if (!zone || !/^[A-Za-z0-9/_+-]+$/.test(zone) || current === `${name}=${zone}`) return;
  document.cookie = `${name}=${zone}; path=/; max-age=31536000; SameSite=Lax`;
})();
