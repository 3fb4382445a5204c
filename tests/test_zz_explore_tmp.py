from tests.conftest import logged_in
from tests.html_forms import read_form
from campaigns.models import Notification

def test_x(bob, retail, news):
    c = logged_in(bob)
    r = c.get(f"/campaigns/notification/add/?app={retail.pk}&template=standard")
    print(r.status_code)
    data = read_form(r.content.decode(), "notification_form")
    print(data)
    data["title_en"] = "Hello"
    data["_schedule"] = "1"
    r = c.post("/campaigns/notification/add/", data)
    print(r.status_code, r.get("Location"))
    if r.status_code == 200:
        print(r.context["adminform"].form.errors)
    print(Notification.objects.values("status", "send_at", "platforms", "expires_at"))
