import pytest
from tests.conftest import logged_in
from tests.html_forms import read_form
from campaigns.models import Notification

@pytest.mark.parametrize("t", ["standard","toast","tile","ratings","feedback","cross_promote","sale","update"])
@pytest.mark.parametrize("appname", ["retail","news"])
def test_x(bob, retail, news, t, appname):
    app = {"retail": retail, "news": news}[appname]
    retail.app_store_id="123456789"; retail.play_package_name="com.contoso.retail"; retail.store_product_id="9NBLGGH4R315"; retail.latest_version="2.0"; retail.save()
    news.store_product_id="9NBLGGH4R315"; news.latest_version="2.0"; news.save()
    c = logged_in(bob)
    r = c.get(f"/campaigns/notification/add/?app={app.pk}&template={t}")
    data = read_form(r.content.decode(), "notification_form")
    print(t, appname, {k: v for k, v in data.items() if k in ("platforms","title_en","body_en","launch","ios_url","android_url","url","on_click","target_kind","activation_type","tile_bindings")})
    data["_schedule"] = "1"
    r = c.post("/campaigns/notification/add/", data)
    print(r.status_code)
    if r.status_code == 200:
        print(dict(r.context["adminform"].form.errors))
