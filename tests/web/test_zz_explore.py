import json, time
from tests.web.conftest import StartApp


def test_explore(start_app: StartApp) -> None:
    t0 = time.time()
    app = start_app()
    print("startup", time.time() - t0)
    with app.api() as c:
        for q in [
            "How do I authenticate API requests? Do I send client id and secret as basic auth?",
            "How do quotes work and how long is a quote valid?",
            "What is the sandbox base URL?",
        ]:
            r = c.post("/v1/ask", json={"question": q})
            print(r.status_code, json.dumps(r.json(), indent=1)[:1500])
        r = c.post(
            "/v1/tickets",
            json={
                "message": "Our sandbox calls return 401 Unauthorized. How should we authenticate? We use basic auth with client id and secret.",
                "reporter": "dev@example.com",
            },
        )
        print(r.status_code, json.dumps(r.json(), indent=1)[:3000])
        tid = r.json()["id"]
        print(c.get("/v1/review/queue").json()["next_cursor"])
        print(json.dumps(c.get(f"/v1/tickets/{tid}/audit").json(), indent=1))
